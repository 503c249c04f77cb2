/**
 * A progress indicator on stderr for waits longer than a second, only when stderr is a
 * terminal (so pipes, scripts and --json consumers never see it).
 */
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export async function withProgress<T>(label: string, work: Promise<T>, stream: NodeJS.WriteStream = process.stderr): Promise<T> {
  if (!stream.isTTY) return work;
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  const started = Date.now();
  const delay = setTimeout(() => {
    timer = setInterval(() => {
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      stream.write(`\r${FRAMES[frame % FRAMES.length] ?? '.'} ${label} ${secs}s`);
      frame += 1;
    }, 100);
  }, 1000);
  try {
    return await work;
  } finally {
    clearTimeout(delay);
    if (timer) {
      clearInterval(timer);
      stream.write('\r\x1b[2K');
    }
  }
}
