// Image manifests as registries serve them: Docker schema2 and OCI manifests, manifest lists and
// OCI indexes (resolved to the host platform), with their media types.
import { arch } from 'os';

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  schema1: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export const MANIFEST_ACCEPT = [MEDIA.dockerManifest, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.ociIndex].join(', ');

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  urls?: string[];
}

export interface ImageManifest {
  kind: 'image';
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ManifestIndex {
  kind: 'index';
  mediaType: string;
  manifests: Descriptor[];
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

function checkDescriptor(d: Descriptor, what: string): Descriptor {
  if (!d || typeof d !== 'object' || typeof d.digest !== 'string' || !DIGEST.test(d.digest)) throw new Error(`invalid manifest: ${what} has no valid sha256 digest`);
  if (typeof d.size !== 'number' || d.size < 0) throw new Error(`invalid manifest: ${what} has no valid size`);
  return d;
}

/** A manifest body parsed by its media type (the Content-Type, else the body's own mediaType). */
export function parseManifest(bytes: Buffer, contentType: string): ImageManifest | ManifestIndex {
  const body = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  let type = contentType.split(';')[0].trim();
  if (!type || type === 'application/json' || type === 'text/plain') type = typeof body.mediaType === 'string' ? body.mediaType : body.manifests ? MEDIA.ociIndex : MEDIA.ociManifest;
  if (type === MEDIA.dockerList || type === MEDIA.ociIndex) {
    const manifests = Array.isArray(body.manifests) ? (body.manifests as Descriptor[]) : [];
    return { kind: 'index', mediaType: type, manifests: manifests.map((m, i) => checkDescriptor(m, `manifests[${i}]`)) };
  }
  if (type === MEDIA.dockerManifest || type === MEDIA.ociManifest) {
    const layers = Array.isArray(body.layers) ? (body.layers as Descriptor[]) : [];
    return { kind: 'image', mediaType: type, config: checkDescriptor(body.config as Descriptor, 'config'), layers: layers.map((l, i) => checkDescriptor(l, `layers[${i}]`)) };
  }
  if (type === MEDIA.schema1 || type === 'application/vnd.docker.distribution.manifest.v1+json') {
    throw new Error('schema 1 manifests (Docker before 1.10) are not supported; push the image again with a current client');
  }
  throw new Error(`unsupported manifest media type ${JSON.stringify(type)}`);
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** The host's platform in OCI terms. */
export function hostPlatform(): Platform {
  const a = arch();
  if (a === 'arm64') return { os: 'linux', architecture: 'arm64', variant: 'v8' };
  if (a === 'arm') return { os: 'linux', architecture: 'arm', variant: 'v7' };
  return { os: 'linux', architecture: a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a };
}

/** `--platform os/arch[/variant]`. */
export function parsePlatform(s: string): Platform {
  const [os, architecture, variant] = s.toLowerCase().split('/');
  if (!os || !architecture) throw new Error(`"${s}": unknown operating system or architecture: invalid argument`);
  return { os, architecture: architecture === 'x86_64' ? 'amd64' : architecture === 'aarch64' ? 'arm64' : architecture, variant };
}

export function platformString(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** The index entry for the platform: exact variant first, then any variant of the architecture. */
export function selectManifest(index: ManifestIndex, want: Platform): Descriptor {
  const candidates = index.manifests.filter((m) => (m.platform?.os ?? '') === want.os && (m.platform?.architecture ?? '') === want.architecture);
  const exact = candidates.find((m) => !want.variant || (m.platform?.variant ?? '') === want.variant || (want.variant === 'v8' && !m.platform?.variant));
  const chosen = exact ?? candidates[0];
  if (!chosen) throw new Error(`no matching manifest for ${platformString(want)} in the manifest list entries`);
  return chosen;
}

/** Whether a layer's blob is gzip, plain tar, or something berth cannot unpack. */
export function layerCompression(mediaType: string): 'gzip' | 'none' {
  if (mediaType === MEDIA.dockerLayer || mediaType === MEDIA.ociLayerGzip || mediaType === MEDIA.dockerForeignLayer || mediaType === 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip') return 'gzip';
  if (mediaType === MEDIA.ociLayer || mediaType === 'application/vnd.oci.image.layer.nondistributable.v1.tar') return 'none';
  if (mediaType === MEDIA.ociLayerZstd) throw new Error('zstd-compressed layers are not supported by berth (Node 20 has no zstd decoder)');
  throw new Error(`unsupported layer media type ${JSON.stringify(mediaType)}`);
}
