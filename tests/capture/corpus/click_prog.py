import time
import click
@click.command()
def main():
    click.echo("plain echo")
    click.secho("red text", fg="red", bold=True)
    with click.progressbar(range(30), label="crunching") as bar:
        for _ in bar:
            time.sleep(0.002)
    click.echo("after bar", err=True)
main()
