import time
from rich.progress import Progress
with Progress() as progress:
    a = progress.add_task("download", total=20)
    b = progress.add_task("extract", total=20)
    for i in range(20):
        progress.update(a, advance=1)
        progress.update(b, advance=1)
        if i == 10:
            progress.console.print("halfway there")
        time.sleep(0.01)
print("after progress")
