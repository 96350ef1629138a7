from kubedrift.cli import main

raise SystemExit(main())
