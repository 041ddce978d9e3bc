import time
from tqdm import trange
for epoch in trange(3, desc="epoch", mininterval=0):
    for batch in trange(15, desc="batch", leave=False, mininterval=0):
        time.sleep(0.002)
print("finished")
