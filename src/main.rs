//! The `customer-portal` binary: parses the command line and hands over to the library.

use std::{io::BufRead, process::ExitCode};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use customer_portal::{
    app::App,
    auth::password::{check_new_password, hash_password},
    clock::Clock,
    config::Config,
    demo,
    domain::{account::Role, language::Language},
    generate, import, server,
    store::{self, accounts},
};
use sea_orm::ActiveEnum;
use tracing_subscriber::EnvFilter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The Customer Portal's GraphQL back end.
#[derive(Parser)]
#[command(name = "customer-portal", version, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run pending migrations, then serve HTTP until SIGINT or SIGTERM.
    Serve {
        /// Fill an empty database with a demo data set first and print the demo sign-ins.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Apply an ERP feed (JSON Lines, one tagged record a line; see the README) and summarise.
    Import {
        /// The feed; `-` reads standard input.
        file: std::path::PathBuf,
    },
    /// Fill an empty database with a deterministic benchmark data set (scale 1: 200 companies,
    /// 100,000 orders, about 400,000 lines and a million serial numbers).
    Generate {
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100))]
        scale: u64,
    },
    /// Create (or reset) an active back-office user; the password is read from standard input.
    CreateStaff {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
    },
}

/// How long the runtime waits for blocking work once the command is done.
const RUNTIME_SHUTDOWN: std::time::Duration = std::time::Duration::from_secs(1);

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run(cli.command));
    // Work still running (a password being hashed for a client that is gone) is not waited for.
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    match outcome {
        Ok(status) => status,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the command; an error means it could not start or stopped (exit status 1).
async fn run(command: Command) -> anyhow::Result<ExitCode> {
    let config = Config::from_env()?;
    let limits = match command {
        Command::Serve { .. } => config.limits.clone(),
        _ => config.limits.for_batch(),
    };
    let db = store::connect_with(&config.database_url, &limits).await?;
    store::migrate(&db).await?;
    match command {
        Command::Migrate => tracing::info!("migrations applied"),
        Command::CreateStaff { email, name } => {
            create_staff(&db, &email, name.as_deref()).await?;
        }
        Command::Import { file } => return import_feed(&db, &file).await,
        Command::Generate { scale } => generate_data(&db, scale).await?,
        Command::Serve { demo } => {
            if demo {
                seed_demo(&db).await?;
            }
            serve(&config, db).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn create_staff(
    db: &sea_orm::DatabaseConnection,
    email: &str,
    name: Option<&str>,
) -> anyhow::Result<()> {
    if !email.contains('@') {
        bail!("--email is not an e-mail address");
    }
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']);
    if let Err(weak) = check_new_password(password, email) {
        bail!("{weak} (the password is the first line of standard input)");
    }
    let hash = hash_password(password).context("hashing the password")?;
    let user = accounts::upsert_user(
        db,
        accounts::NewUser {
            email,
            name,
            role: Role::BackOffice,
            company_id: None,
            password_hash: Some(hash),
            language: Language::default(),
        },
        Clock::System.now(),
    )
    .await
    .context("storing the staff user")?;
    println!("back-office user {} is active", user.email);
    Ok(())
}

/// Exits 0 when no record was rejected, `import::EXIT_SOME_REJECTED` when some were.
async fn import_feed(
    db: &sea_orm::DatabaseConnection,
    file: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let summary = if file.as_os_str() == "-" {
        import::run(db, std::io::stdin().lock(), None, Clock::System).await?
    } else {
        let opened =
            std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
        let size = opened.metadata().ok().map(|metadata| metadata.len());
        import::run(db, std::io::BufReader::new(opened), size, Clock::System).await?
    };
    println!("{}", import::report(&summary, started));
    Ok(if summary.rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(import::EXIT_SOME_REJECTED)
    })
}

async fn generate_data(db: &sea_orm::DatabaseConnection, scale: u64) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let loaded = generate::run(db, generate::Sizes::at_scale(scale)).await?;
    println!(
        "generated scale {scale} in {:.1} s: {} companies, {} users, {} products, {} orders, \
         {} lines, {} ETA changes, {} shipments, {} serial numbers, {} e-mail deliveries, \
         {} invoices, {} events",
        started.elapsed().as_secs_f64(),
        loaded.companies,
        loaded.users,
        loaded.products,
        loaded.orders,
        loaded.lines,
        loaded.eta_changes,
        loaded.shipments,
        loaded.serials,
        loaded.electronic_deliveries,
        loaded.invoices,
        loaded.events
    );
    println!(
        "sign in as {} (customer administrator) with password {}",
        generate::admin_email(1),
        generate::PASSWORD
    );
    Ok(())
}

async fn seed_demo(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    match demo::seed(db, Clock::System.today()).await? {
        Some(sign_ins) => {
            println!("Demo data loaded. Sign in with:");
            for sign_in in sign_ins {
                let company = sign_in.company.unwrap_or_else(|| "distributor".into());
                println!(
                    "  {:<15} {:<40} {:<20} ({company})",
                    sign_in.role.to_value(),
                    sign_in.email,
                    sign_in.password
                );
            }
        }
        None => println!("The database already holds data: the demo set was not loaded again."),
    }
    Ok(())
}

async fn serve(config: &Config, db: sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    let app = App::new(config, db, Clock::System);
    app.spawn_mail_dispatcher();
    app.spawn_webhook_deliverer();
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("PORTAL_BIND: cannot listen on {}", config.bind))?;
    tracing::info!("serving GraphQL on http://{}/graphql", config.bind);
    server::serve(app, listener, config.drain, shutdown_signal()).await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM; the server then stops accepting and drains.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!("cannot listen for SIGTERM: {error}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        () = terminate => {},
    }
}
