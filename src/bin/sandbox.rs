//! `revenue-agents-sandbox`: a local, stateful fake of both APIs, for clients in any language.
//! `revenue-agents-sandbox --help` lists its options.

fn main() -> std::process::ExitCode {
    revenue_agents::sandbox::binary::main()
}
