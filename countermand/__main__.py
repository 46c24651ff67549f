from countermand.cli import main

main()
