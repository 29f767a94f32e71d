//! HTTP plumbing shared by the services: serving, answers, error mapping.
//!
//! Handlers return `Result<T, E>` where `E` is the service's one API error
//! type; [`respond`] is the single place where such a result becomes an
//! answer, and [`recover`] the single place for warp's own rejections
//! (unknown path, wrong method).
use std::convert::Infallible;
use std::future::Future;

use serde::Serialize;
use tokio::net::TcpListener;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::telemetry::{TRACEPARENT, Telemetry, continue_trace};

/// A service's API error: its `Display` is the message the client reads, so
/// it must say what was wrong without internal details.
pub trait ApiError: std::error::Error {
    fn status_code(&self) -> StatusCode;
}

/// The body of every error answer: `{"error": "<what was wrong>"}`.
#[derive(Debug, Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

pub fn error_reply(status: StatusCode, message: &str) -> Response {
    warp::reply::with_status(warp::reply::json(&ErrorBody { error: message }), status).into_response()
}

/// Turns a handler's result into an answer: 200 with the JSON body, or the
/// error's status with its message.
pub fn respond<T: Serialize, E: ApiError>(result: Result<T, E>) -> Response {
    let (status, body) = answer(result);
    json_response(status, &body)
}

/// The status and JSON body a handler's result stands for, for callers that
/// store answers before sending them. Server faults are logged with their
/// whole cause chain, which the client never sees.
pub fn answer<T: Serialize, E: ApiError>(result: Result<T, E>) -> (StatusCode, serde_json::Value) {
    match result {
        Ok(body) => (StatusCode::OK, serde_json::to_value(body).unwrap_or_default()),
        Err(error) => {
            let status = error.status_code();
            if status.is_server_error() {
                tracing::error!(error = %error_chain(&error), "request failed");
            }
            (status, serde_json::json!({ "error": error.to_string() }))
        }
    }
}

pub fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    warp::reply::with_status(warp::reply::json(body), status).into_response()
}

/// An error and its sources on one line, for logs.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Answers warp's own rejections in the same JSON shape as handler errors.
pub async fn recover(rejection: Rejection) -> Result<Response, Infallible> {
    let (status, message) = if rejection.is_not_found() {
        (StatusCode::NOT_FOUND, "no such endpoint; see the API contract")
    } else if rejection.find::<warp::reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "this endpoint does not take that method",
        )
    } else {
        tracing::warn!(?rejection, "unhandled rejection");
        (StatusCode::BAD_REQUEST, "the request could not be understood")
    };
    Ok(error_reply(status, message))
}

/// Hands each handler its own clone of shared state (a pool, a client).
pub fn with_state<T: Clone + Send + Sync + 'static>(
    state: T,
) -> impl Filter<Extract = (T,), Error = Infallible> + Clone {
    warp::any().map(move || state.clone())
}

/// Wraps a service's routes with rejection handling, a span and one log
/// line per request, adds `GET /metrics` beside them, and erases their type
/// so [`serve`] can take any service's routes.
pub fn finish<F, R>(telemetry: &Telemetry, routes: F) -> BoxedFilter<(Response,)>
where
    F: Filter<Extract = (R,), Error = Rejection> + Clone + Send + Sync + 'static,
    R: Reply + 'static,
{
    let service = telemetry.service;
    let traced = routes
        .map(Reply::into_response)
        .recover(recover)
        .unify()
        .with(warp::log::custom(log_request))
        .with(warp::trace(move |info| request_span(service, &info)))
        .map(Reply::into_response);
    crate::telemetry::metrics::route(telemetry.clone())
        .or(traced)
        .unify()
        .boxed()
}

/// The span every handler's spans are children of. It continues the
/// caller's trace when the request carries a `traceparent` header, and is
/// named after the resource (`POST /orders/checkout`), not the whole path,
/// so that collectors can group requests.
fn request_span(service: &'static str, info: &warp::trace::Info<'_>) -> tracing::Span {
    let method = info.method();
    let resource: String = info.path().split('/').take(3).collect::<Vec<_>>().join("/");
    let span = tracing::info_span!(
        "http.request",
        otel.name = %format_args!("{method} {resource}"),
        otel.kind = "server",
        service,
        "http.request.method" = %method,
        "url.path" = info.path(),
        "http.response.status_code" = tracing::field::Empty,
    );
    let traceparent = info
        .request_headers()
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok());
    continue_trace(&span, traceparent);
    span
}

/// The one log line per request, inside the request's span (so it carries
/// the trace id), which also gets the status. At debug, except for a 5xx:
/// at thousands of requests a second a line each costs more than the
/// request; the span and the metrics count every one.
fn log_request(info: warp::log::Info<'_>) {
    let status = info.status().as_u16();
    tracing::Span::current().record("http.response.status_code", status);
    let (method, path) = (info.method(), info.path());
    let elapsed_us = info.elapsed().as_micros() as u64;
    if info.status().is_server_error() {
        tracing::warn!(%method, path, status, elapsed_us, "request");
    } else {
        tracing::debug!(%method, path, status, elapsed_us, "request");
    }
}

/// Serves `routes` on an already bound listener until `shutdown` completes,
/// then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    routes: BoxedFilter<(Response,)>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    warp::serve(routes)
        .incoming(listener)
        .graceful(shutdown)
        .run()
        .await;
}

/// Completes on Ctrl-C or SIGTERM, what `make down` and Kubernetes send.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutdown requested");
}

/// Where a service listens: `HTTP_HOST` (default `127.0.0.1`) and `HTTP_PORT`
/// (default: the service's own port; 0 picks a free one, as tests do).
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub host: std::net::IpAddr,
    pub port: u16,
}

impl HttpSettings {
    pub fn from_env(default_port: u16) -> Result<Self, crate::settings::SettingError> {
        Ok(HttpSettings {
            host: crate::settings::env_or("HTTP_HOST", std::net::Ipv4Addr::LOCALHOST.into())?,
            port: crate::settings::env_or("HTTP_PORT", default_port)?,
        })
    }

    /// Binds now, so that a port conflict fails start-up and a test learns
    /// the port it was given before any request is sent.
    pub async fn bind(&self) -> std::io::Result<TcpListener> {
        TcpListener::bind((self.host, self.port)).await
    }
}
