//! `revenue-agents`: every operation of HockeyStack's Revenue Agents API and of HyperRep's API
//! as a command, plus the composite jobs and a raw mode. `revenue-agents --help` lists them.

fn main() -> std::process::ExitCode {
    revenue_agents::cli::main()
}
