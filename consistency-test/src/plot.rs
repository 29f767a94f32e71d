//! The stress run's two plots, as SVG: latency over time, and committed
//! checkouts per second against the number of clients.
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use plotters::prelude::*;

use crate::latency::Percentiles;
use crate::stress::{Outcome, Sample, Step};

const SIZE: (u32, u32) = (900, 480);

/// p50 and p99 of the committed checkouts started in each second of the run.
pub fn latency_over_time(path: &Path, samples: &[Sample]) -> anyhow::Result<()> {
    let mut seconds: BTreeMap<u64, Vec<Duration>> = BTreeMap::new();
    for sample in samples.iter().filter(|s| s.outcome == Outcome::Committed) {
        seconds
            .entry(sample.at_secs as u64)
            .or_default()
            .push(sample.latency);
    }
    let per_second: Vec<(f64, Percentiles)> = seconds
        .into_iter()
        .map(|(second, latencies)| (second as f64, Percentiles::of(latencies)))
        .collect();
    let end = per_second.last().map_or(1.0, |(s, _)| s + 1.0);
    let top = per_second.iter().map(|(_, p)| p.p99_ms).fold(1.0, f64::max) * 1.1;

    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Checkout latency over time (committed checkouts)",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..end, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the run started")
        .y_desc("latency (ms)")
        .draw()?;
    for (name, color, pick) in [
        (
            "p50",
            BLUE,
            (|p: &Percentiles| p.p50_ms) as fn(&Percentiles) -> f64,
        ),
        ("p99", RED, |p: &Percentiles| p.p99_ms),
    ] {
        chart
            .draw_series(LineSeries::new(
                per_second.iter().map(|(s, p)| (*s, pick(p))),
                color,
            ))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// Committed checkouts per second at each closed-loop step.
pub fn throughput_vs_concurrency(path: &Path, steps: &[&Step]) -> anyhow::Result<()> {
    let most_clients = steps.iter().map(|s| s.concurrency).max().unwrap_or(1) as f64;
    let top = steps.iter().map(|s| s.committed_per_sec).fold(1.0, f64::max) * 1.1;
    let points: Vec<(f64, f64)> = steps
        .iter()
        .map(|s| (s.concurrency as f64, s.committed_per_sec))
        .collect();

    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Committed checkouts per second against concurrent clients",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..most_clients * 1.05, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("concurrent clients (closed loop)")
        .y_desc("committed checkouts / s")
        .draw()?;
    chart.draw_series(LineSeries::new(points.clone(), BLUE))?;
    chart.draw_series(points.into_iter().map(|p| Circle::new(p, 4, BLUE.filled())))?;
    root.present()?;
    Ok(())
}

/// `make bench-scale`'s plot: committed checkouts per second against the
/// replicas of each service, one line per design (`series`: its name and
/// its (replicas, checkouts/s) points), and beside the last design the
/// line of linear growth from its fewest replicas.
pub fn throughput_vs_replicas<DB>(
    backend: DB,
    title: &str,
    series: &[(String, Vec<(u32, f64)>)],
) -> anyhow::Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let points = || series.iter().flat_map(|(_, points)| points.iter());
    let most = points().map(|p| p.0).max().unwrap_or(1);
    let linear: Vec<(u32, f64)> = match series.last().and_then(|(_, points)| points.first()) {
        Some(&(fewest, rate)) => (fewest..=most)
            .map(|r| (r, rate * f64::from(r) / f64::from(fewest)))
            .collect(),
        None => Vec::new(),
    };
    let top = points().chain(&linear).map(|p| p.1).fold(1.0, f64::max) * 1.1;

    let root = backend.into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(0u32..most + 1, 0.0..top)?;
    chart
        .configure_mesh()
        .x_labels(most as usize + 2)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .x_desc("replicas of each service")
        .y_desc("committed checkouts / s")
        .label_style(("sans-serif", 15))
        .draw()?;
    if let Some((name, _)) = series.last() {
        let grey = RGBColor(150, 150, 150);
        chart
            .draw_series(LineSeries::new(linear, grey.stroke_width(1)))?
            .label(format!("linear from its fewest replicas: {name}"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey));
    }
    for (n, (name, points)) in series.iter().enumerate() {
        let color = [RED, BLUE, GREEN, MAGENTA, CYAN][n % 5];
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 5, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
