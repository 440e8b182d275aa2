// Errors from a registry: the distribution spec's `{"errors":[{code,message,detail}]}` bodies,
// rendered as Docker renders them ("manifest unknown: manifest unknown").

export class RegistryError extends Error {
  constructor(
    readonly status: number,
    /** MANIFEST_UNKNOWN, NAME_UNKNOWN, UNAUTHORIZED, DENIED, BLOB_UNKNOWN... ('' when the body had none) */
    readonly code: string,
    readonly detail: string,
  ) {
    super(code ? `${code.toLowerCase().replace(/_/g, ' ')}: ${detail}` : detail);
  }
}

/** The registry's first error of a failed response, or Docker's text for a bare status. */
export function registryError(status: number, statusText: string, body: string, what: string): RegistryError {
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ code?: string; message?: string }> };
    const first = parsed.errors?.[0];
    if (first?.code) return new RegistryError(status, first.code, first.message ?? '');
  } catch {
    // Not the spec's JSON: fall through to the status.
  }
  if (status === 401) return new RegistryError(status, 'UNAUTHORIZED', 'authentication required');
  return new RegistryError(status, '', `error ${what}: unexpected status from registry: ${status} ${statusText}`.trim());
}
