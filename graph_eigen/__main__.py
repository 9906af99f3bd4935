from graph_eigen.cli.main import run

run()
