export { ConfigSchema, parseListen, type Config, type ListenAddress } from './schema.js';
export { loadConfig, envName, type ConfigSources } from './load.js';
export { ConfigError, type ConfigErrorCode } from './errors.js';
