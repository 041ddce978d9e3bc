import time
from rich.console import Console
console = Console()
console.print("[bold]before[/bold]")
with console.status("working hard..."):
    time.sleep(0.4)
    console.log("a log line while the spinner runs")
    time.sleep(0.2)
console.print("after", style="green")
