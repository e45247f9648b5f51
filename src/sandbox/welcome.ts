import type { SandboxInfo, SandboxUser } from './sandbox.js';

/** The banner `npm run sandbox` prints: where to go, and the demo credentials on the first start. */
export function printSandboxWelcome(publicUrl: string, simulatorUrl: string, seeded: SandboxUser[] | null, info: SandboxInfo): string {
  const lines = [
    '',
    '  SANDBOX MODE: a simulated Twilio, no real texts are sent.',
    `  Agent console:   ${publicUrl}/`,
    `  Customer phone:  ${publicUrl}/phone`,
    `  Twilio simulator: ${simulatorUrl}`,
    `  Demo numbers:    ${info.demoNumbers.map((n) => n.e164).join(', ')}`,
  ];
  if (seeded) {
    lines.push('', `  Demo workspace "${info.tenantName}" created. Sign in with (shown once here, and on the sign-in page):`);
    for (const u of seeded) lines.push(`    ${u.role.padEnd(5)}  ${u.email.padEnd(18)}  ${u.password}`);
  } else {
    lines.push('', '  Demo workspace already seeded; its credentials are on the console\'s sign-in page.');
  }
  lines.push(
    '',
    `  Script a customer text: curl -s ${publicUrl}/sandbox/inbound -H 'content-type: application/json' \\`,
    `    -d '{"from":"+14155550199","to":"${info.demoNumbers[0]?.e164 ?? '+15005550100'}","body":"Hello!"}'`,
    '',
  );
  return `${lines.join('\n')}\n`;
}
