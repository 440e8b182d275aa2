// The RegistryConfig of GET /info, as dockerd's registry service builds it from its
// --insecure-registry and --registry-mirror settings.

export interface IndexInfo {
  Name: string;
  Mirrors: string[];
  Secure: boolean;
  Official: boolean;
}

export interface RegistryServiceConfig {
  /** berth has no --allow-nondistributable-artifacts: dockerd's empty lists. */
  AllowNondistributableArtifactsCIDRs: string[];
  AllowNondistributableArtifactsHostnames: string[];
  InsecureRegistryCIDRs: string[];
  IndexConfigs: Record<string, IndexInfo>;
  Mirrors: string[];
}

/** A CIDR in Go's net.IPNet form: the network address (host bits cleared) and the prefix; null when `s` is none. */
function ipv4Cidr(s: string): string | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
  if (!m) return null;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) return null;
  const ip = octets.reduce((a, o) => a * 256 + o, 0);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const net = (ip & mask) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (net >>> s) & 255).join('.')}/${bits}`;
}

/**
 * moby's newServiceConfig: mirrors with one trailing slash, once each; the user's CIDRs before
 * the loopback one dockerd always adds; a host:port entry as an insecure index of its own; Docker
 * Hub's index with the mirrors.
 */
export function registryServiceConfig(insecureRegistries: string[], mirrors: string[]): RegistryServiceConfig {
  const uniqueMirrors = [...new Set(mirrors.map((m) => `${m.replace(/\/$/, '')}/`))];
  const cidrs: string[] = [];
  const indexes: Record<string, IndexInfo> = {};
  for (const raw of [...insecureRegistries, '127.0.0.0/8']) {
    const r = raw.replace(/^https?:\/\//i, '');
    const cidr = ipv4Cidr(r);
    if (cidr) {
      if (!cidrs.includes(cidr)) cidrs.push(cidr);
    } else {
      indexes[r] = { Name: r, Mirrors: [], Secure: false, Official: false };
    }
  }
  indexes['docker.io'] = { Name: 'docker.io', Mirrors: uniqueMirrors, Secure: true, Official: true };
  return { AllowNondistributableArtifactsCIDRs: [], AllowNondistributableArtifactsHostnames: [], InsecureRegistryCIDRs: cidrs, IndexConfigs: indexes, Mirrors: uniqueMirrors };
}
