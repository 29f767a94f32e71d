use events::Line;
use platform::database::DbError;
use sqlx::PgExecutor;
use sqlx::types::Json;
use uuid::Uuid;

#[tracing::instrument(skip(executor, lines))]
pub async fn insert_reservation(
    executor: impl PgExecutor<'_>,
    saga_id: Uuid,
    order_id: &str,
    lines: &[Line],
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO reservations (saga_id, order_id, lines) VALUES ($1, $2, $3)")
        .bind(saga_id)
        .bind(order_id)
        .bind(Json(lines))
        .execute(executor)
        .await?;
    Ok(())
}

/// Marks the saga's reservation released and returns its lines, or `None`
/// when there is none or it was released already.
#[tracing::instrument(skip(executor))]
pub async fn release_reservation(
    executor: impl PgExecutor<'_>,
    saga_id: Uuid,
) -> Result<Option<Vec<Line>>, DbError> {
    let lines: Option<Json<Vec<Line>>> = sqlx::query_scalar(
        "UPDATE reservations SET released_at = now() \
         WHERE saga_id = $1 AND released_at IS NULL RETURNING lines",
    )
    .bind(saga_id)
    .fetch_optional(executor)
    .await?;
    Ok(lines.map(|Json(lines)| lines))
}
