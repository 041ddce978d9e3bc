import time
from tqdm import tqdm
for i in tqdm(range(40), desc="train", mininterval=0):
    time.sleep(0.002)
print("done")
