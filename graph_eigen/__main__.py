from graph_eigen.cli.main import main

raise SystemExit(main())
