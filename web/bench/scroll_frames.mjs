// The one scrolling loop of the benches, run inside the page (page.evaluate(scrollFrames, mode)):
// for 3 s, one wheel notch a frame ('wheel') or a scrollbar drag to the next 1% of the run a frame
// ('scrollbar'); returns each frame's time and the long tasks seen meanwhile.
export async function scrollFrames(mode) {
  const el = document.querySelector('[data-testid="log-scroller"]');
  const times = [];
  const long = [];
  const obs = new PerformanceObserver((l) => long.push(...l.getEntries().map((e) => e.duration)));
  obs.observe({ entryTypes: ['longtask'] });
  let last = performance.now();
  const end = last + 3000;
  let i = 0;
  await new Promise((res) => {
    const step = (now) => {
      times.push(now - last);
      last = now;
      if (mode === 'wheel') el.dispatchEvent(new WheelEvent('wheel', { deltaY: 100, bubbles: true, cancelable: true }));
      else el.scrollTop = ((i++ % 100) / 100) * (el.scrollHeight - el.clientHeight);
      if (now < end) requestAnimationFrame(step);
      else res();
    };
    requestAnimationFrame(step);
  });
  obs.disconnect();
  return { times: times.slice(1), long };
}
