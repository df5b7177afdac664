// Generated from schemas/probe.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * What `capm probe --format json` prints.
 */
export interface Probe {
  /**
   * Always `capm.probe/v1`.
   */
  schema: "capm.probe/v1";
  /**
   * Whether every server answered.
   */
  ok: boolean;
  /**
   * One entry per server, in the order they were started.
   */
  servers: ProbeResult[];
}
/**
 * What probing one server found.
 */
export interface ProbeResult {
  /**
   * The bundle providing the server.
   */
  bundle: string;
  /**
   * The server's name (its key under `mcp` in OpenCode's config).
   */
  server: string;
  /**
   * `stdio` for a local server, `http` for a remote one (streamable HTTP).
   */
  transport: string;
  /**
   * Whether it completed `initialize` and `tools/list`.
   */
  ok: boolean;
  /**
   * The protocol version the server answered with.
   */
  protocol_version?: string;
  /**
   * The server's own name and version (`serverInfo`), when it gave them.
   */
  server_info?: string;
  /**
   * How many tools `tools/list` returned, every page followed.
   */
  tools?: number;
  /**
   * Why it failed.
   */
  error?: string;
  /**
   * The last lines the server wrote on stderr, secrets redacted (on failure only).
   */
  stderr?: string[];
  /**
   * Milliseconds from launch to the end of the probe.
   */
  millis: number;
}
