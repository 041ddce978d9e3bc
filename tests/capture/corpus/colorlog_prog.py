import logging
import colorlog
handler = colorlog.StreamHandler()
handler.setFormatter(colorlog.ColoredFormatter("%(log_color)s%(levelname)-8s%(reset)s %(blue)s%(message)s"))
log = colorlog.getLogger("corpus")
log.addHandler(handler)
log.setLevel(logging.DEBUG)
log.debug("debug record")
log.info("info record")
log.warning("warning record")
log.error("error record")
log.critical("critical record")
print("end")
