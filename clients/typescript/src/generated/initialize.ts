// Generated from schemas/initialize.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * What `initialize` answers: the server, the protocol version and what it offers.
 */
export interface Initialize {
  /**
   * Always `capm.initialize/v1`.
   */
  schema: "capm.initialize/v1";
  /**
   * Always `capm`.
   */
  name: string;
  /**
   * capm's version.
   */
  version: string;
  /**
   * Rises only for a change that breaks an existing client; a client refuses a version it
   * does not know.
   */
  protocol_version: number;
  /**
   * The methods a client may call.
   */
  methods: string[];
  notifications: Notifications;
  /**
   * The longest message the server reads, in bytes, without its newline.
   */
  max_message_bytes: number;
  /**
   * The project found from the server's working directory (absolute); absent when it is
   * in no project.
   */
  project?: string;
}
/**
 * The notifications each side may send.
 */
export interface Notifications {
  /**
   * From the client: `$/cancelRequest`.
   */
  client: string[];
  /**
   * From the server: `$/progress`.
   */
  server: string[];
}
