from cytonet.cli import main

main()
