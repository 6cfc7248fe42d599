//! CLI, configuration, tracing and serving: nothing else.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use usher::app::{build_router, build_state, Clock};
use usher::auth::password;
use usher::config::Config;

/// A fast, single-binary server for Grafana's user and administration HTTP APIs.
///
/// With no command it serves on [server] http_addr:http_port (0.0.0.0:3000), with an embedded
/// SQLite database under [paths] data (./data), creating admin/admin on first start. Settings come
/// from Grafana's defaults, then --config, then GF_<SECTION>_<KEY> environment variables.
#[derive(Parser)]
#[command(name = "usher", version)]
struct Cli {
    /// A grafana.ini-style configuration file.
    #[arg(long, global = true, env = "USHER_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the HTTP server (the default).
    Server,
    /// Administrative commands (Grafana's `grafana cli admin …`).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the audit log's hash chain: exits 0 when every record follows the one before it,
    /// 1 naming the first broken link.
    Verify,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Set the password of the server admin ([security] admin_user), or of --user.
    ResetAdminPassword {
        /// The new password (at least 4 characters).
        new_password: String,
        /// Login of the user whose password to reset (default: [security] admin_user).
        #[arg(long)]
        user: Option<String>,
    },
}

fn main() -> anyhow::Result<()> {
    usher::memory::return_freed_memory();
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref(), std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("usher: {e}");
            std::process::exit(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_env("USHER_LOG").unwrap_or_else(|_| {
            EnvFilter::new(format!(
                "usher={0},tower_http=warn,sqlx=warn,{0}",
                config.log_level
            ))
        }))
        .init();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Server) {
            Command::Server => serve(config).await,
            Command::Admin {
                command: AdminCommand::ResetAdminPassword { new_password, user },
            } => reset_admin_password(config, user, new_password).await,
            Command::Audit {
                command: AuditCommand::Verify,
            } => verify_audit(config).await,
        }
    })
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let host = if config.server.http_addr.is_empty() {
        "0.0.0.0".to_string()
    } else {
        config.server.http_addr.clone()
    };
    let addr = format!("{host}:{}", config.server.http_port);
    let server_config = config.server.clone();
    let state = build_state(config, Clock::system()).await?;
    let store = state.store.clone();
    state.spawn_clean_up();
    usher::provisioning::spawn_dashboard_polling(&state);
    let app = build_router(state);
    let listener = TcpListener::bind(&addr).await?;
    tracing::info!(%addr, "usher listening");
    let limits = usher::server::Limits::from_config(&server_config);
    usher::server::serve(listener, app, limits, shutdown_signal()).await?;
    store.close().await;
    tracing::info!("usher stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM; in-flight requests then finish before the server exits.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// `usher audit verify`: reads the database only (it connects and migrates, as every command
/// does, but starts nothing and writes no record).
async fn verify_audit(config: Config) -> anyhow::Result<()> {
    let store = usher::store::Store::connect(&config.database).await?;
    let report = store.verify_audit_chain().await?;
    store.close().await;
    match report.broken {
        None => {
            println!("audit chain intact: {} records checked", report.checked);
            Ok(())
        }
        Some((id, why)) => {
            println!(
                "audit chain broken at record {id}: {why} ({} records checked)",
                report.checked
            );
            std::process::exit(1);
        }
    }
}

async fn reset_admin_password(
    config: Config,
    user: Option<String>,
    new_password: String,
) -> anyhow::Result<()> {
    if let Err(msg) =
        password::validate_new_password(&new_password, config.auth_basic.password_policy)
    {
        anyhow::bail!("{msg}");
    }
    let login = user.unwrap_or_else(|| config.security.admin_user.clone());
    let state = build_state(config, Clock::system()).await?;
    let Some(user) = state.store.user_by_login_or_email(&login).await? else {
        anyhow::bail!("user {login:?} not found");
    };
    let scheme = state.config.security.password_hash;
    let stored = state.hasher.hash_internal(new_password, scheme).await?;
    // The change's audit record (`users.password:write`) names the command line as its actor.
    let (changed, _, _) = usher::audit::scoped(
        usher::audit::Context::server("cli"),
        usher::service::in_tx(&state, async |tx| {
            usher::service::users::set_password(
                &state,
                tx,
                user.id,
                &stored.hash,
                &stored.salt,
                None,
            )
            .await
        }),
    )
    .await;
    changed?;
    println!("Admin password changed successfully ✔");
    Ok(())
}
