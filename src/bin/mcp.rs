//! `revenue-agents-mcp`: both APIs as MCP tools for AI assistants, over stdio or streamable HTTP
//! on loopback. `revenue-agents-mcp --help` lists its options and toolsets.

fn main() -> std::process::ExitCode {
    revenue_agents::mcp::binary::main()
}
