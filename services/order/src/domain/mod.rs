mod checkout;
mod order;
mod saga_step;
mod timeline;

pub use checkout::{NewSaga, Plan, Started, plan, redrive};
pub use order::{ItemId, Order, OrderId, OrderState, OrderStatus, UserId};
pub use saga_step::{Ended, SagaEnd, SagaStep};
pub use timeline::TimelineEntry;
