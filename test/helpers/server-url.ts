/** The address a spawned `larder serve` (or the bare bench server) prints, read from its stdout. */
export async function serverUrl(proc: { stdout: ReadableStream<Uint8Array>; stderr?: unknown }): Promise<string> {
  const reader = proc.stdout.getReader();
  let text = "";
  while (!/http:\/\/[\d.:]+/.test(text)) {
    const { value, done } = await reader.read();
    if (done) {
      const stderr = proc.stderr instanceof ReadableStream ? await new Response(proc.stderr).text() : "";
      throw new Error(`server exited: ${text} ${stderr}`);
    }
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return /http:\/\/[\d.:]+/.exec(text)![0];
}
