//! Builds the bundled engine modules (`plugins/*`) for `wasm32-unknown-unknown`
//! so that `cargo run` alone gives a working app: the modules are embedded in
//! the binary with `include_bytes!`.
//!
//! The nested cargo uses its own target directory, so it never waits on the
//! lock held by the outer build.

use std::path::{Path, PathBuf};
use std::process::Command;

const MODULES: [&str; 3] = ["cinema-plugin-default", "cinema-plugin-baseline", "cinema-plugin-classic"];
const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest.ancestors().nth(2).expect("tui/app/ lives inside the workspace").to_path_buf();
    for watched in [
        "protocol/src",
        "protocol/Cargo.toml",
        "engine/src",
        "engine/Cargo.toml",
        "engine/metrics",
        "plugins",
        "Cargo.toml",
        ".cargo/config.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("engine-modules");
    ensure_wasm_target(&target_dir);
    build_modules(&root, &target_dir);
    let out_dir = target_dir.join(WASM_TARGET).join("plugin");
    for module in MODULES {
        let file = out_dir.join(format!("{}.wasm", module.replace('-', "_")));
        let var = module.trim_start_matches("cinema-plugin-").to_uppercase();
        println!("cargo:rustc-env=CINEMA_MODULE_{var}={}", file.display());
    }
}

/// A toolchain that rustup installed before this checkout existed does not
/// get the `targets` of `rust-toolchain.toml` (rustup adds them only when it
/// installs the toolchain), so a bare `cargo run` would stop here with "can't
/// find crate for core". Like wasm-pack, add the target when rustup is there.
fn ensure_wasm_target(target_dir: &Path) {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc).args(["--print", "sysroot"]).output().ok().filter(|o| o.status.success());
    let Some(sysroot) = sysroot.map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())) else {
        return; // The nested build will report what is wrong.
    };
    if sysroot.join("lib/rustlib").join(WASM_TARGET).is_dir() {
        return;
    }
    // The toolchain rustup chose for this build (from rust-toolchain.toml), named
    // so the target goes to that toolchain and not to the default one.
    let toolchain = std::env::var("RUSTUP_TOOLCHAIN").ok();
    let mut cmd = Command::new("rustup");
    cmd.args(["target", "add", WASM_TARGET]);
    if let Some(toolchain) = &toolchain {
        cmd.args(["--toolchain", toolchain]);
    }
    match cmd.status() {
        Ok(status) if status.success() => {
            println!("cargo:warning=added the {WASM_TARGET} target with rustup: the engine modules are built for it");
            // Cargo repeats a build script's warnings on every build until the
            // script runs again; a path that never exists makes the next build
            // run it once more, find the target and say nothing.
            println!("cargo:rerun-if-changed={}", target_dir.join("rerun-after-adding-the-wasm-target").display());
        }
        Ok(_) => panic!(
            "`rustup target add {WASM_TARGET}` failed (see above); the engine modules cannot be built without it. \
             Run it yourself when you are online, then build again."
        ),
        Err(_) => panic!(
            "the {WASM_TARGET} target is missing from this Rust toolchain ({}) and rustup is not on the PATH to add it. \
             Install the toolchain's wasm32 standard library with your package manager \
             (e.g. Debian/Ubuntu: `apt install libstd-rust-dev-wasm32`; Fedora: `dnf install rust-std-static-wasm32-unknown-unknown`; \
             Homebrew: use rustup), or install Rust with rustup.",
            sysroot.display()
        ),
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
        panic!("building the engine modules for {WASM_TARGET} failed (see the compiler's errors above)");
    }
}
