//! The figures: the course's four, and our stricter ones.
use std::fmt;

use futures::stream::{self, StreamExt, TryStreamExt};
use reqwest::StatusCode;
use serde::Serialize;

use crate::client::Shop;
use crate::progress::Phase;
use crate::scenario::{Checkouts, World};

/// Each checkout's answer, in the order of `World::orders`.
#[derive(Debug)]
pub struct Answers(Vec<Option<StatusCode>>);

impl Answers {
    pub fn new(statuses: Vec<Option<StatusCode>>) -> Self {
        Answers(statuses)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The checkouts whose answer said nothing of the outcome: neither 2xx
    /// nor 4xx (a 503 at the wait bound, a gateway error, no answer).
    pub fn unanswered(&self) -> Vec<usize> {
        (0..self.len())
            .filter(|&n| !self.0[n].is_some_and(|s| s.is_success() || s.is_client_error()))
            .collect()
    }

    /// Takes `status` as checkout `n`'s answer.
    pub fn answer(&mut self, n: usize, status: Option<StatusCode>) {
        self.0[n] = status;
    }

    fn paid(&self, n: usize) -> bool {
        self.0[n].is_some_and(|s| s.is_success())
    }

    pub fn summary(&self) -> String {
        let ok = (0..self.len()).filter(|n| self.paid(*n)).count();
        let refused = self.0.iter().flatten().filter(|s| s.is_client_error()).count();
        format!(
            "{ok} paid (2xx), {refused} refused (4xx), {} other",
            self.len() - ok - refused
        )
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// `single-item` or `multi-item`.
    pub scenario: String,
    pub checkouts: usize,
    /// Checkouts not answered yet when the fault was injected, if one was.
    pub in_flight_at_fault: Option<usize>,
    /// Checkouts not answered yet when the fault had taken effect (the
    /// inject command had returned).
    pub in_flight_once_broken: Option<usize>,
    pub succeeded: usize,
    pub refused: usize,
    /// Neither 2xx nor 4xx: 5xx, a gateway error, or no answer at all.
    pub other_answers: usize,
    /// From the first checkout sent to the last answer.
    pub elapsed_secs: f64,
    /// Units the 2xx answers sold minus units the stock lost.
    pub stock_inconsistency_answers: i64,
    /// Items whose stock is not their start minus what paid orders took.
    pub stock_inconsistency_database: usize,
    /// Credit the 2xx answers charged minus credit the users lost.
    pub payment_inconsistency_answers: i64,
    /// Users whose credit is not their start minus their paid order's cost.
    pub payment_inconsistency_database: usize,
    /// Orders whose `paid` flag disagrees with their checkout's answer.
    pub paid_flag_mismatches: usize,
}

impl Report {
    pub async fn compare(shop: &Shop, world: &World, checkouts: &Checkouts) -> anyhow::Result<Report> {
        let answers = &checkouts.answers;
        let mut report = Report {
            checkouts: answers.len(),
            elapsed_secs: checkouts.elapsed.as_secs_f64(),
            ..Report::default()
        };
        for status in &answers.0 {
            match status {
                Some(s) if s.is_success() => report.succeeded += 1,
                Some(s) if s.is_client_error() => report.refused += 1,
                _ => report.other_answers += 1,
            }
        }
        let mut taken = vec![0_i64; world.items.len()];
        let mut charged = 0;
        for (n, order) in world.orders.iter().enumerate() {
            if answers.paid(n) {
                order
                    .lines
                    .iter()
                    .for_each(|(item, quantity)| taken[*item] += quantity);
                charged += order.cost;
            }
        }
        let mut lost = 0;
        for (i, (item, start, _)) in world.items.iter().enumerate() {
            let stock = shop.stock_of(item).await?;
            lost += start - stock;
            if stock != start - taken[i] || stock < 0 {
                report.stock_inconsistency_database += 1;
            }
        }
        report.stock_inconsistency_answers = taken.iter().sum::<i64>() - lost;
        let phase = Phase::new("reading the state back", world.orders.len());
        let phase_ref = &phase;
        let read = stream::iter(world.orders.iter().enumerate())
            .map(|(n, order)| async move {
                let credit = shop.credit_of(&order.user).await?;
                let paid = shop.is_paid(&order.id).await?;
                phase_ref.advance(1);
                anyhow::Ok((n, credit, paid))
            })
            .buffer_unordered(64)
            .try_collect::<Vec<_>>()
            .await?;
        phase.finish(&format!("{} users' credit and orders' paid flag", read.len()));
        let mut spent = 0;
        for (n, credit, paid) in read {
            let order = &world.orders[n];
            let expected = order.credit - if answers.paid(n) { order.cost } else { 0 };
            spent += order.credit - credit;
            report.payment_inconsistency_database += usize::from(credit != expected);
            report.paid_flag_mismatches += usize::from(paid != answers.paid(n));
        }
        report.payment_inconsistency_answers = charged - spent;
        Ok(report)
    }

    pub fn total_inconsistencies(&self) -> u64 {
        self.stock_inconsistency_answers.unsigned_abs()
            + self.stock_inconsistency_database as u64
            + self.payment_inconsistency_answers.unsigned_abs()
            + self.payment_inconsistency_database as u64
            + self.paid_flag_mismatches as u64
            + self.other_answers as u64
    }

    pub fn is_consistent(&self) -> bool {
        self.total_inconsistencies() == 0
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} checkouts in {:.2} s: {} succeeded (2xx), {} refused (4xx), {} other",
            self.scenario,
            self.checkouts,
            self.elapsed_secs,
            self.succeeded,
            self.refused,
            self.other_answers
        )?;
        writeln!(
            f,
            "stock inconsistencies in the answers:    {}",
            self.stock_inconsistency_answers
        )?;
        writeln!(
            f,
            "stock inconsistencies in the database:   {}",
            self.stock_inconsistency_database
        )?;
        writeln!(
            f,
            "payment inconsistencies in the answers:  {}",
            self.payment_inconsistency_answers
        )?;
        writeln!(
            f,
            "payment inconsistencies in the database: {}",
            self.payment_inconsistency_database
        )?;
        writeln!(
            f,
            "orders whose paid flag contradicts their answer: {}",
            self.paid_flag_mismatches
        )?;
        writeln!(f, "answers neither 2xx nor 4xx: {}", self.other_answers)?;
        write!(
            f,
            "consistency: {} passed, {} failed",
            usize::from(self.is_consistent()),
            usize::from(!self.is_consistent())
        )
    }
}
