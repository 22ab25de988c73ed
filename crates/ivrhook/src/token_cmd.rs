//! `ivrhook token new`: a new API token, and the `[[api_tokens]]` entry that lets it in (its
//! SHA-256: the configuration never holds the token itself).

use std::error::Error;

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    action: TokenAction,
}

#[derive(Debug, clap::Subcommand)]
enum TokenAction {
    /// Print a new random token and the configuration entry with its hash.
    ///
    /// Example: ivrhook token new --name ops --scopes read,operate
    New {
        /// The entry's name (it shows in nothing the token's holder sees).
        #[arg(long, default_value = "ops")]
        name: String,
        /// What the token may do: read (GET endpoints, the dashboard), operate (also retries
        /// and event submission).
        #[arg(long, value_delimiter = ',', default_value = "read")]
        scopes: Vec<String>,
    },
}

pub fn run(args: TokenArgs) -> Result<(), Box<dyn Error>> {
    let TokenAction::New { name, scopes } = args.action;
    if let Some(bad) = scopes.iter().find(|s| *s != "read" && *s != "operate") {
        return Err(format!("--scopes: {bad:?} must be read or operate").into());
    }
    let (token, hash) = ivrhook_server::access::new_token()
        .map_err(|e| format!("no randomness from the operating system: {e}"))?;
    let scopes: Vec<String> = scopes.iter().map(|s| format!("{s:?}")).collect();
    println!("token: {token}");
    println!("(shown once: keep it where the client can read it; ivrhook keeps only its hash)");
    println!();
    println!(
        "[[api_tokens]]\nname = {name:?}\nsha256 = \"{hash}\"\nscopes = [{}]",
        scopes.join(", ")
    );
    Ok(())
}
