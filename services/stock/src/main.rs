use stock::configuration::Settings;
use stock::startup::Application;

fn main() -> anyhow::Result<()> {
    platform::runtime::from_env()?.block_on(async {
        let _telemetry = platform::telemetry::init("stock");
        let settings = Settings::from_env()?;
        let application = Application::build(settings).await?;
        application
            .run_until_stopped(platform::http::shutdown_signal())
            .await;
        Ok(())
    })
}
