fn main() -> std::process::ExitCode {
    cinema::cli::main()
}
