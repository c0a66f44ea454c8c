//! Builds the bundled engine modules (`plugins/*`) for `wasm32-unknown-unknown`
//! so that `cargo run` alone gives a working app: the modules are embedded in
//! the binary with `include_bytes!`.
//!
//! The nested cargo uses its own target directory, so it never waits on the
//! lock held by the outer build.

use std::path::{Path, PathBuf};
use std::process::Command;

const MODULES: [&str; 2] = ["cinema-plugin-default", "cinema-plugin-baseline"];
const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest.parent().expect("tui/ lives inside the workspace").to_path_buf();
    for watched in ["engine/src", "engine/Cargo.toml", "plugins", "Cargo.toml", ".cargo/config.toml"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("engine-modules");
    build_modules(&root, &target_dir);
    let out_dir = target_dir.join(WASM_TARGET).join("plugin");
    for module in MODULES {
        let file = out_dir.join(format!("{}.wasm", module.replace('-', "_")));
        let var = module.trim_start_matches("cinema-plugin-").to_uppercase();
        println!("cargo:rustc-env=CINEMA_MODULE_{var}={}", file.display());
    }
}

fn build_modules(root: &Path, target_dir: &Path) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--profile", "plugin", "--target", WASM_TARGET, "--target-dir"])
        .arg(target_dir);
    for module in MODULES {
        cmd.args(["-p", module]);
    }
    // The outer build's flags and wrappers are for the host, not for wasm.
    for var in
        ["CARGO_ENCODED_RUSTFLAGS", "RUSTFLAGS", "RUSTC_WORKSPACE_WRAPPER", "RUSTC_WRAPPER", "CARGO_BUILD_TARGET"]
    {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("could not start cargo to build the engine modules");
    if !status.success() {
        panic!(
            "building the engine modules for {WASM_TARGET} failed (see above). \
             If the target is missing, run: rustup target add {WASM_TARGET}"
        );
    }
}
