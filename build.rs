//! `sqlx::migrate!` (src/store/migrate.rs) embeds every file of `migrations/<dialect>/` when it
//! expands; this makes cargo expand it again when a file is added, not only when one changes.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
