from absl import app, logging
def main(argv):
    logging.info("info record")
    logging.warning("warning record")
    logging.error("error record")
    print("end")
app.run(main)
