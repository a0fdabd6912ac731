// An ACME order for an identifier the attacker chooses, to the end: account, order, http-01
// answered (the strongest attacker can answer for the name), finalize, certificate download.
// The outcome says where it was refused; its `code` is the ACME problem type.
import type { ChallengePublisher } from '../acme/http01-responder.ts';
import { RawAcmeClient, type AcmeAnswer, type AcmeIdentifier } from './acme-raw.ts';
import type { AttemptOutcome } from './issuance-attempts.ts';

const outcome = (answer: AcmeAnswer): AttemptOutcome => ({
  status: answer.status,
  code: answer.problemType,
  detail: answer.problemDetail ?? answer.text,
  certificatePem: answer.status === 200 && answer.text.includes('BEGIN CERTIFICATE') ? answer.text : undefined,
});

export async function acmeAttempt(input: {
  directoryUrl: string;
  trustedCaPem: string;
  from: string;
  identifier: AcmeIdentifier;
  responder: ChallengePublisher;
}): Promise<AttemptOutcome> {
  const acme = new RawAcmeClient({ directoryUrl: input.directoryUrl, trustedCaPem: input.trustedCaPem, localAddress: input.from });
  await acme.createAccount();
  const { orderUrl, finalize } = await acme.readyOrder(input.responder, input.identifier);
  const { signed } = await acme.signFinalize(finalize, input.identifier);
  const finalized = await acme.send(signed);
  if (finalized.status !== 200) return outcome(finalized);
  return outcome(await acme.post(await acme.certificateUrl(orderUrl), undefined));
}

/**
 * A client that obtained a bootstrap certificate for its own address and kept its signed
 * newAccount, finalize and certificate requests, to replay them.
 */
export async function acmeWithCapture(input: { directoryUrl: string; trustedCaPem: string; from: string; responder: ChallengePublisher }) {
  const acme = new RawAcmeClient({ directoryUrl: input.directoryUrl, trustedCaPem: input.trustedCaPem, localAddress: input.from });
  await acme.createAccount();
  const newAccount = acme.sent.at(-1)!;
  const { orderUrl, finalize } = await acme.readyOrder(input.responder);
  const { signed } = await acme.signFinalize(finalize);
  const finalized = await acme.send(signed);
  if (finalized.status !== 200) throw new Error(`finalize answered HTTP ${finalized.status}: ${finalized.text}`);
  const certificate = await acme.post(await acme.certificateUrl(orderUrl), undefined);
  if (certificate.status !== 200) throw new Error(`the certificate download answered HTTP ${certificate.status}: ${certificate.text}`);
  return { acme, certificatePem: certificate.text, captured: [newAccount, signed, acme.sent.at(-1)!] };
}

/** A client whose order for its own address is ready for finalization: the signed finalize, not sent. */
export async function acmeReadyToFinalize(input: { directoryUrl: string; trustedCaPem: string; from: string; responder: ChallengePublisher }) {
  const acme = new RawAcmeClient({ directoryUrl: input.directoryUrl, trustedCaPem: input.trustedCaPem, localAddress: input.from });
  await acme.createAccount();
  const { orderUrl, finalize } = await acme.readyOrder(input.responder);
  return { acme, orderUrl, finalize: (await acme.signFinalize(finalize)).signed };
}
