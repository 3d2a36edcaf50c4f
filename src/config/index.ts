export {
  ConfigSchema,
  IPV4_PATTERN,
  parseListen,
  type Config,
  type ListenAddress,
  type NetbootConfig,
} from './schema.js';
export { loadConfig, envName, type ConfigSources } from './load.js';
export { ConfigError, type ConfigErrorCode } from './errors.js';
export { renderConfigReference, CONFIG_FLAGS, type ConfigFlag } from './reference.js';
