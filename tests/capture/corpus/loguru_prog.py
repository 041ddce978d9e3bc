import sys
from loguru import logger
logger.remove()
logger.add(sys.stderr, colorize=True)
logger.debug("debug record")
logger.info("info record")
logger.warning("warning record")
logger.error("error record")
def f():
    return 1 / 0
try:
    f()
except ZeroDivisionError:
    logger.exception("failed")
print("end")
