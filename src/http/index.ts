/** http: transport helpers shared by every HTTP listener (body limits and decoding, negotiation, streaming). */
export { readBody, decodeBody, mediaType } from './body.js';
export { acceptEntries, negotiate, sendJsonArray, sendResult, toJson, withFirst, type Format } from './respond.js';
export { corsOriginAllowed } from './cors.js';
