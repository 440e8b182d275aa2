// Go's texts for errno values (as os.PathError and syscall.Errno print them): runc's and dockerd's
// messages carry them, and berth's say the same.
const TEXTS: Record<string, string> = {
  EINVAL: 'invalid argument',
  EPERM: 'operation not permitted',
  EACCES: 'permission denied',
  ENOENT: 'no such file or directory',
  EBUSY: 'device or resource busy',
};

/** The Go text of an error's errno code; its own message for codes without one here. */
export function goErrnoText(e: unknown): string {
  return TEXTS[(e as { code?: string }).code ?? ''] ?? (e as Error).message;
}
