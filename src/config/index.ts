/**
 * config: the one place configuration is read, validated, frozen and persisted.
 * Everything else receives the frozen WeftConfig; nothing else reads env vars for configuration.
 */
export { DEFAULT_CONFIG, type WeftConfig } from './defaults.js';
export { flatKeyToPath, getPath } from './flat.js';
export {
  loadConfig, resolveConfig, resolveRootPath, configFileFor, parseFlags, setConfiguration, readConfigFile,
  validateConfig, defaultThreadCount, CONFIG_FILE_NAME, type LoadedConfig, type ConfigSources,
} from './load.js';
