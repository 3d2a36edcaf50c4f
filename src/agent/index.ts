/**
 * The on-board agent. It imports only `protocol/` and `lib/` (no server code), so it bundles into
 * one file that runs on the board's Node. `runAgent` is the library entry (the simulator runs many
 * in one process); `agentMain` is the command line.
 */
export { runAgent, AGENT_VERSION, type AgentOptions, type AgentResult } from './run.js';
export { agentMain, parseAgentArgs, AGENT_USAGE } from './cli.js';
export { AgentError, type AgentErrorCode } from './errors.js';
export { openCard, type Card } from './card.js';
export type { TargetInfo } from './target.js';
export type { RateLimiter } from './rate-limit.js';
export { streamLog, SILENT_LOG, type AgentLog } from './log.js';
