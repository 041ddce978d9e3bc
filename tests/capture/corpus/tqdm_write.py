import time
from tqdm import tqdm, trange
for epoch in trange(3, desc="epoch", mininterval=0):
    for batch in trange(10, desc="batch", leave=False, mininterval=0):
        time.sleep(0.002)
    tqdm.write(f"epoch {epoch}: loss 0.{epoch}")
    tqdm.write("Saving checkpoint...")
print("finished")
