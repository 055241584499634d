//! The command line: every subcommand and its flags (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Minna Kikeru (みんな聞ける): the membership store for audio content.
#[derive(Debug, Parser)]
#[command(name = "kikeru", version, about)]
pub struct Cli {
    /// A TOML configuration file; `KIKERU_*` environment variables override its keys.
    #[arg(long, global = true, env = "KIKERU_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web service (the default).
    Serve {
        /// Serve HTTPS with a certificate made at start for `localhost` and 127.0.0.1 (local
        /// HTTPS; browsers will warn: it is signed by nobody).
        #[arg(long)]
        self_signed: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document of the JSON API and exit.
    Openapi,
    /// Manage the catalogue.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Manage orders.
    #[command(subcommand)]
    Order(OrderCommand),
    /// Mail: sent to the service (ingest, LMTP) and waiting to go out (deliver, status).
    #[command(subcommand)]
    Mail(MailCommand),
    /// Copy the SQLite database to FILE, consistently, while the service runs (restore by
    /// pointing `database_url` at the copy).
    Backup {
        /// The new file to write (it must not exist).
        file: PathBuf,
    },
    /// Anonymous access statistics.
    #[command(subcommand)]
    Stats(StatsCommand),
    /// Manage operator accounts.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Act on a member's account at their request.
    #[command(subcommand)]
    Member(MemberCommand),
    /// The disclosure ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// The books: sales, refunds, chargebacks and tax from the receipts and return invoices.
    #[command(subcommand)]
    Books(BooksCommand),
    /// Versions of the privacy policy.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Retention of personal data and records.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Disclose a member's data to a third party, if the rules allow it: the recipient's file
    /// is written with exactly the allowed categories and the ledger records it; a refusal
    /// writes nothing and exits non-zero with the reason. Audited either way.
    Disclose(DiscloseArgs),
}

/// What `kikeru disclose` is told.
#[derive(Debug, Args)]
pub struct DiscloseArgs {
    /// The member's ID.
    #[arg(long)]
    pub member: uuid::Uuid,
    /// `partner:KEY`, `processor:KEY` or `authority:NAME`.
    #[arg(long)]
    pub recipient: String,
    /// Comma-separated categories (`email_address,purchase_history`).
    #[arg(long)]
    pub categories: String,
    /// `entrustment`, `consent:PURPOSE` or `legal_order:ID`.
    #[arg(long)]
    pub basis: String,
    /// `provision`, `sale`, `rental` or `exchange`.
    #[arg(long, default_value = "provision")]
    pub transfer: String,
    /// Where to write the recipient's file.
    #[arg(long)]
    pub out: PathBuf,
    /// The administrator this is done as (their sign-in address): only administrators
    /// disclose, and the audit log names them.
    #[arg(long)]
    pub operator: String,
}

/// Mail commands.
#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Store one RFC 5322 message from standard input as an inquiry, the way an MTA delivers
    /// to a program (Postfix `pipe`, an alias). Exits 0 when stored (or already stored, or an
    /// automatic reply to ignore), 65 for a message that can never be stored, 75 when the
    /// database is unavailable (the MTA retries).
    Ingest,
    /// Accept mail over LMTP (RFC 2033) and store each message as an inquiry.
    Lmtp {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:2424")]
        listen: std::net::SocketAddr,
    },
    /// Deliver the mail that is due, once (`serve` does it continuously).
    Deliver,
    /// Count the mail waiting, sent and given up.
    Status,
}

/// Statistics commands.
#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Print the report of the last completed days (for third parties: no personal data, and
    /// cells counting fewer than `stats_min_count` requests left out).
    Export {
        /// `csv` or `json`.
        #[arg(long, default_value = "csv")]
        format: String,
        /// How many completed days, up to yesterday (UTC).
        #[arg(long, default_value_t = 30)]
        days: u16,
    },
}

/// Retention commands.
#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Remove what is past its retention period, once (`serve` also does it every hour).
    Run,
}

/// Privacy-policy commands.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Publish the next version of the privacy policy and tell every member by mail, in their
    /// language (run it again to resume an interrupted notice: nobody is mailed twice).
    Publish {
        /// The version's number (the next one: 2 after the first).
        #[arg(long)]
        number: u32,
        /// The day it takes effect (`YYYY-MM-DD`, today or later).
        #[arg(long)]
        effective: String,
        /// What changed, in Japanese.
        #[arg(long)]
        changes_ja: String,
        /// What changed, in English.
        #[arg(long)]
        changes_en: String,
    },
    /// List the published versions and how far each notice has gone.
    List,
}

/// The days a books command covers (Japan time, both included; default: this fiscal year).
#[derive(Debug, Args)]
pub struct PeriodArgs {
    /// The first day, `YYYY-MM-DD`.
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// The last day, `YYYY-MM-DD`.
    #[arg(long, requires = "from")]
    pub to: Option<String>,
}

/// Books commands.
#[derive(Debug, Subcommand)]
pub enum BooksCommand {
    /// Print the books of a period: `csv` (one table, see `--table`), `json` (everything) or
    /// `journal` (仕訳 CSV for accounting software).
    Export {
        /// The period.
        #[command(flatten)]
        period: PeriodArgs,
        /// `csv`, `json` or `journal`.
        #[arg(long, default_value = "csv")]
        format: String,
        /// For `csv`: `periods`, `rates`, `products` or `creators`.
        #[arg(long, default_value = "periods")]
        table: String,
        /// Rows of the `periods` table: `day`, `month` or `fiscal-year`.
        #[arg(long, default_value = "month")]
        by: String,
        /// Write to this new file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Reconcile the receipts and return invoices with the orders and payments; exits 1 and
    /// lists the differences when they disagree.
    Verify {
        /// The period.
        #[command(flatten)]
        period: PeriodArgs,
    },
}

/// Ledger commands.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Check the whole hash chain; exits non-zero naming the first broken entry.
    Verify,
}

/// Operator commands.
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Create an operator account. The password is read from standard input (one line), so it
    /// stays out of the shell's history and the process list.
    Add {
        /// The operator's e-mail address.
        #[arg(long)]
        email: String,
        /// `operator` or `admin`.
        #[arg(long, default_value = "operator")]
        role: String,
    },
}

/// Member commands.
#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Remove every second factor (authenticator app, recovery codes) of a member who lost
    /// them all — only after checking outside the service that the request is theirs. Every
    /// session of the member ends, they are told by mail, and the operators' audit log and
    /// the member's security events record it. Exits 1 when the member has none.
    ResetSecondFactor {
        /// The member's ID.
        #[arg(long, conflicts_with = "email", required_unless_present = "email")]
        member: Option<uuid::Uuid>,
        /// Or the member's e-mail address.
        #[arg(long)]
        email: Option<String>,
    },
    /// Seal every stored authenticator-app secret that a previous key sealed again under
    /// `second_factor_key` (after a rotation: the old key moved to
    /// `second_factor_previous_keys`). Safe while the service runs; prints what it did, and
    /// exits 1 when a secret opened with no configured key.
    Reseal,
}

/// Catalogue commands.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Add and update products from a TOML or CSV file, all or none. Audio paths are relative to
    /// the media folder and must exist there.
    Import {
        /// The catalogue file (`.toml` or `.csv`).
        file: PathBuf,
    },
}

/// Order commands.
#[derive(Debug, Subcommand)]
pub enum OrderCommand {
    /// Refund a paid order in full at the payment provider.
    Refund {
        /// The order's ID.
        order_id: uuid::Uuid,
    },
}
