import logging
import sys
import warnings
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
log = logging.getLogger("trainer")
for i in range(3):
    print(f"stdout {i}", flush=True)
    print(f"stderr {i}", file=sys.stderr, flush=True)
log.info("an info record")
log.warning("a warning\nwith a second line")
warnings.warn("careful")
print("end")
