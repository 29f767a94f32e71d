use order::configuration::Settings;
use order::startup::Application;

fn main() -> anyhow::Result<()> {
    platform::runtime::from_env()?.block_on(async {
        let _telemetry = platform::telemetry::init("order");
        let settings = Settings::from_env()?;
        let application = Application::build(settings).await?;
        application
            .run_until_stopped(platform::http::shutdown_signal())
            .await;
        Ok(())
    })
}
