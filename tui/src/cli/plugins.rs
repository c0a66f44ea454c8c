//! `cinema plugins list`: every engine module the app can load, what it
//! calls itself, and the algorithms it offers with each parameter's kind,
//! default and range — read from the module's own `Hello`, so a module
//! someone else wrote shows its own knobs.

use anyhow::Result;
use cinema_host::{EngineClient, EngineModule};
use cinema_protocol::{AlgorithmInfo, Hello, ParamKind, Role};
use serde_json::{Value as Json, json};

use super::{Env, print_json};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the built-in modules and each `.wasm` in the data directory's plugins/ folder.
    List,
}

pub fn run(env: &Env, command: Command) -> Result<()> {
    let Command::List = command;
    let modules = crate::modules::available(&env.runtime, &env.home.plugins_dir());
    let listed: Vec<Json> = modules
        .into_iter()
        .map(|(name, module)| {
            let hello = module.and_then(|m| EngineClient::start(&env.runtime, &m, env.limits).map(|c| (m, c)));
            match hello {
                Ok((module, client)) => describe(&module, client.hello()),
                Err(e) => json!({ "name": name, "error": format!("{e:#}") }),
            }
        })
        .collect();
    if env.json {
        return print_json(&listed);
    }
    println!("Engine modules (plugins folder: {})", env.home.plugins_dir().display());
    for module in &listed {
        print_text(module);
    }
    Ok(())
}

fn describe(module: &EngineModule, hello: &Hello) -> Json {
    json!({
        "name": module.name,
        "location": module.location(),
        "sha256": module.sha256,
        "abi_version": hello.abi_version,
        "engine": hello.engine,
        "version": hello.engine_version,
        "algorithms": hello.algorithms.iter().map(algorithm).collect::<Vec<_>>(),
    })
}

fn algorithm(a: &AlgorithmInfo) -> Json {
    let params: Vec<Json> = a
        .params
        .iter()
        .map(|p| {
            let mut entry = match &p.kind {
                ParamKind::Integer { default, min, max } => {
                    json!({ "kind": "integer", "default": default, "min": min, "max": max })
                }
                ParamKind::Real { default, min, max } => {
                    json!({ "kind": "real", "default": default, "min": min, "max": max })
                }
                ParamKind::Choice { default, choices } => {
                    json!({ "kind": "choice", "default": default, "choices": choices })
                }
            };
            entry["name"] = json!(p.name);
            entry["help"] = json!(p.help);
            entry
        })
        .collect();
    let role = match a.role {
        Role::Rating => "rating",
        Role::Ranking => "ranking",
    };
    json!({ "name": a.name, "role": role, "description": a.description, "params": params })
}

fn print_text(module: &Json) {
    let name = module["name"].as_str().unwrap_or("?");
    if let Some(error) = module["error"].as_str() {
        println!("\n{name}: cannot be loaded: {error}");
        return;
    }
    println!(
        "\n{name} {} (ABI {}) {}\n  sha256 {}",
        module["version"].as_str().unwrap_or(""),
        module["abi_version"],
        module["location"].as_str().unwrap_or(""),
        module["sha256"].as_str().unwrap_or("")
    );
    for a in module["algorithms"].as_array().into_iter().flatten() {
        println!(
            "  {} ({} model): {}",
            a["name"].as_str().unwrap_or(""),
            a["role"].as_str().unwrap_or(""),
            a["description"].as_str().unwrap_or("")
        );
        for p in a["params"].as_array().into_iter().flatten() {
            let range = match p["kind"].as_str() {
                Some("choice") => format!("one of {}", p["choices"]),
                kind => format!("{} {}..={}", kind.unwrap_or(""), p["min"], p["max"]),
            };
            println!(
                "    {:<14} {:<22} default {:<8} {}",
                p["name"].as_str().unwrap_or(""),
                range,
                p["default"].to_string().trim_matches('"'),
                p["help"].as_str().unwrap_or("")
            );
        }
    }
}
