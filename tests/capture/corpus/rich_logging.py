import logging
from rich.console import Console
from rich.logging import RichHandler
logging.basicConfig(level=logging.DEBUG, format="%(message)s", datefmt="[%X]", handlers=[RichHandler()])
log = logging.getLogger("corpus")
log.debug("debugging details")
log.info("an info record")
log.warning("low disk space")
log.error("a record\nwith two lines")
try:
    {}["missing"]
except KeyError:
    log.exception("lookup failed")
try:
    1 / 0
except ZeroDivisionError:
    Console().print_exception()
print("end")
