// The control API's error: an HTTP status and a message, serialised as Toxiproxy does
// ({"error": "...", "status": N}; api.ts sends it as Go's http.Error: that JSON, a newline,
// text/plain). Built on rstlab's error base class with a stable code.

import { RstlabError } from '../errors.js';

export class ProxyApiError extends RstlabError {
  readonly code = 'ERR_PROXY_API';
  readonly status: number;
  constructor(message: string, status: number, hint?: string) {
    super(message, hint);
    this.status = status;
  }
  toJSON(): { error: string; status: number } {
    return { error: this.message, status: this.status };
  }
}

// The messages and statuses Toxiproxy uses (api.go), so clients that match on them keep working.
export const badRequestBody = (why: string): ProxyApiError => new ProxyApiError(`bad request body: ${why}`, 400);
export const missingField = (field: string): ProxyApiError => new ProxyApiError(`missing required field: ${field}`, 400);
export const proxyNotFound = (): ProxyApiError => new ProxyApiError('proxy not found', 404);
export const proxyAlreadyExists = (): ProxyApiError => new ProxyApiError('proxy already exists', 409);
export const invalidStream = (): ProxyApiError =>
  new ProxyApiError('stream was invalid, can be either upstream or downstream', 400);
export const invalidToxicType = (): ProxyApiError => new ProxyApiError('invalid toxic type', 400);
export const toxicAlreadyExists = (): ProxyApiError => new ProxyApiError('toxic already exists', 409);
export const toxicNotFound = (): ProxyApiError => new ProxyApiError('toxic not found', 404);
