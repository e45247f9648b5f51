/** Sandbox mode only (404 otherwise): demo credentials and numbers, from GET /sandbox/info. */
export interface SandboxInfo {
  tenantName: string;
  tenantSlug: string | null;
  users: { role: string; name: string; email: string; password: string }[];
  demoNumbers: { e164: string; description: string | null }[];
  customers: string[];
}

export async function fetchSandboxInfo(): Promise<SandboxInfo | null> {
  try {
    const res = await fetch('/sandbox/info');
    return res.ok ? ((await res.json()) as SandboxInfo) : null;
  } catch {
    return null;
  }
}
