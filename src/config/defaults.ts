/**
 * Every configuration key Weft knows, with its default. Units are in the comments.
 * `threads.count` is deliberately absent: it is computed at every start (spec §1.9, §9 item 13).
 * `<root>` inside strings is replaced by the root path when the config is resolved.
 */
export const DEFAULT_CONFIG = {
  rootPath: '<root>',
  componentsRoot: '<root>/components',
  node: { hostname: 'localhost', url: null as string | null },
  http: {
    port: 9926 as number | string | null, // bare port or "host:port"
    securePort: null as number | string | null,
    cors: true,
    corsAccessList: ['*'] as (string | null)[],
    corsAccessControlAllowHeaders: 'Accept, Content-Type, Authorization',
    compressionThreshold: 1200, // bytes
    keepAliveTimeout: 30_000, // ms
    timeout: 120_000, // ms, whole request
    headersTimeout: 60_000, // ms
    maxHeaderSize: 16_394, // bytes
    requestQueueLimit: 20_000, // ms
    http2: false,
    mtls: false as boolean | Record<string, unknown>,
    maxParamLength: 100,
    sessionAffinity: null as string | null,
    threadRange: null as unknown,
  },
  threads: {
    debug: false as boolean | Record<string, unknown>,
    maxHeapMemory: null as number | null, // MiB per worker
  },
  authentication: {
    authorizeLocal: false,
    cacheTTL: 30_000, // ms
    enableSessions: true,
    operationTokenTimeout: '1d',
    refreshTokenTimeout: '30d',
    hashFunction: 'sha256',
    cookie: { domains: null as string[] | null, expires: null as string | null },
    // failed-login throttling per username and per client address (docs/security.md)
    throttle: { maxFailuresPerUser: 10, maxFailuresPerAddress: 100, window: 300_000 /* ms */ },
  },
  operationsApi: {
    network: {
      port: 9925 as number | string | null,
      securePort: null as number | string | null,
      cors: true,
      corsAccessList: ['*'] as (string | null)[],
      domainSocket: '<root>/operations-server',
      keepAliveTimeout: 5_000, // ms
      timeout: 120_000, // ms
      headersTimeout: 60_000, // ms
      https: false,
      http2: false,
      maxBodySize: 1_073_741_824, // bytes (1 GiB, Harper's limit)
      maxJsonDepth: 100, // nesting levels of a request body
    },
    tls: null as Record<string, unknown> | null,
    sysInfo: { network: true, disk: true },
  },
  tls: {
    certificate: '<root>/keys/certificate.pem',
    privateKey: '<root>/keys/privateKey.pem',
    certificateAuthority: '<root>/keys/ca.pem',
    ciphers: null as string | null,
  },
  mqtt: {
    network: { port: 1883 as number | string | null, securePort: 8883 as number | string | null, mtls: false as unknown },
    webSocket: true,
    requireAuthentication: true,
  },
  logging: {
    level: 'warn', // trace debug info warn error fatal notify
    root: '<root>/log',
    file: true,
    stdStreams: false,
    console: true,
    colors: false,
    rotation: { enabled: true, compress: false, interval: null as string | null, maxSize: null as string | null, path: '<root>/log' },
    auditLog: true,
    auditRetention: '3d',
    auditAuthEvents: { logFailed: false, logSuccessful: false },
  },
  storage: {
    path: '<root>/database',
    writeAsync: false, // true: answer after commit, before the fsync
    caching: true,
    compression: true,
    noReadAhead: false,
    prefetchWrites: true,
    overlappingSync: true,
    maxTransactionQueueTime: '45s',
    compactOnStart: false,
    compactOnStartKeepBackup: false,
    blobPaths: ['<root>/blobs'],
    pageSize: null as number | null,
    reclamation: { threshold: 0.4, interval: '1h', evictionFactor: 100_000 },
  },
  databases: null as Record<string, unknown> | null,
  analytics: { aggregatePeriod: 60, replicate: false },
  localStudio: { enabled: false },
  replication: {
    hostname: null as string | null,
    url: null as string | null,
    port: null as number | string | null,
    securePort: 9933 as number | string | null,
    routes: null as unknown,
    databases: '*' as unknown,
    enableRootCAs: true,
    blobTimeout: 120_000, // ms
    failOver: true,
    shard: null as unknown,
  },
  jobs: {
    // worker threads of the background pool (CSV loads, exports); null = one per CPU core, at least 1
    poolSize: null as number | null,
  },
  sql: {
    // tables with at least this many records are scanned/aggregated in key-range chunks on the background pool
    // (unless an index plan reads fewer rows); 0 keeps every query on the serving thread
    parallelThreshold: 100_000,
  },
  serialization: { bigInt: true },
  ignoreScripts: false,
};

export type WeftConfig = typeof DEFAULT_CONFIG & { threads: { count: number } & (typeof DEFAULT_CONFIG)['threads'] };

/** Flat keys from spec §1.4 that are not leaves of DEFAULT_CONFIG; accepted and stored at their dotted path. */
export const EXTRA_FLAT_PATHS = [
  'threads.count', 'threads.debug.startingPort', 'threads.debug.port', 'threads.debug.host', 'threads.debug.waitForDebugger',
  'http.mtls.required', 'http.mtls.user', 'logging.external.level', 'logging.external.tag', 'logging.external.path',
  'logging.rotation.retention', 'operationsApi.tls.certificate', 'operationsApi.tls.privateKey',
  'operationsApi.tls.certificateAuthority', 'replication.mtls.certificateVerification', 'storage.encryption',
  'storage.debugLongTransactions', 'storage.audit.path', 'storage.maxFreeSpaceToLoad', 'storage.maxFreeSpaceToRetain',
  'storage.compression.dictionary', 'storage.compression.threshold', 'mqtt.network.mtls.required',
  'mqtt.network.mtls.certificateAuthority', 'mqtt.network.mtls.user', 'threads', 'tls', 'replication', 'databases',
];

/** Legacy flat names (spec §1.4) and the dotted path they set. */
export const LEGACY_ALIASES: Record<string, string> = {
  hdb_root: 'rootPath', server_port: 'operationsApi.network.port', certificate: 'tls.certificate',
  private_key: 'tls.privateKey', https_on: 'operationsApi.network.https', cors_on: 'operationsApi.network.cors',
  cors_whitelist: 'operationsApi.network.corsAccessList', cors_accesslist: 'operationsApi.network.corsAccessList',
  log_level: 'logging.level', log_path: 'logging.root', max_hdb_processes: 'threads.count',
  max_http_threads: 'threads.count', http_threads: 'threads.count', threads: 'threads.count',
  server_timeout_ms: 'operationsApi.network.timeout', server_keep_alive_timeout: 'operationsApi.network.keepAliveTimeout',
  server_headers_timeout: 'operationsApi.network.headersTimeout',
  operation_token_timeout: 'authentication.operationTokenTimeout', refresh_token_timeout: 'authentication.refreshTokenTimeout',
  custom_functions_port: 'http.port', customfunctions_network_port: 'http.port',
  custom_functions_directory: 'componentsRoot', customfunctions_root: 'componentsRoot', log_to_file: 'logging.file',
  log_to_stdstreams: 'logging.stdStreams', local_studio_on: 'localStudio.enabled', operationsapi_root: 'rootPath',
};
