from hexagone.cli import main

main()
