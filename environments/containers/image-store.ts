// The engine's image store through testcontainers' client: whether an image is there, and a pull
// that says why it failed.
import { getContainerRuntimeClient, ImageName } from 'testcontainers';

/** Whether the engine has this image (testcontainers' client; the engine is the lab's, engine.ts). */
export async function imageExists(reference: string): Promise<boolean> {
  return (await getContainerRuntimeClient()).image.exists(ImageName.fromString(reference));
}

/**
 * Pulls an image through testcontainers' engine client (dockerode), following the pull's progress
 * stream: a failure is reported in that stream (no registry, unknown tag) even when the request
 * itself answered 200, and testcontainers' own pull() only logs it.
 */
export async function pullImage(reference: string, timeoutMs: number): Promise<void> {
  const { dockerode } = (await getContainerRuntimeClient()).container;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)));
  const pulled = (async () => {
    const stream = await dockerode.pull(reference);
    await new Promise<void>((resolve, reject) =>
      dockerode.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string; errorDetail?: { message?: string } }> = []) => {
        const failure = events.find((e) => e.error || e.errorDetail);
        if (err || failure) reject(err ?? new Error(failure!.errorDetail?.message ?? failure!.error));
        else resolve();
      }),
    );
  })();
  try {
    await Promise.race([pulled, timeout]);
  } catch (err) {
    throw new Error(`cannot pull ${reference}: ${(err as Error).message.trim()}`);
  } finally {
    clearTimeout(timer);
  }
  if (!(await imageExists(reference))) throw new Error(`cannot pull ${reference}: the engine reported success but has no such image`);
}
